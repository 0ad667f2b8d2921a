def f():
	  x = '''open
