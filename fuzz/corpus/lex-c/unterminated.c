x = "never closed
/* open comment