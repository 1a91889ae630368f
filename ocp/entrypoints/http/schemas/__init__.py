"""Request and response models: strict inputs (`extra="forbid"`), explicit outputs."""
