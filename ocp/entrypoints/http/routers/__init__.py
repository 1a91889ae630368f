"""One router per resource; each translates HTTP to one use-case call and back."""
