String s = """
  text block never closed
/* and a comment