"""OCP, the Online Course Portal backend."""
