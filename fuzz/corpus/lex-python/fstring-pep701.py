import os
x = f"{os.system("rm -rf " + x)}"
x = f"{f"{eval(x)}"}"
x = f"{f"{f"{f"{eval(x)}"}"}"}"
x = f"{
  eval(x)
}"
x = f"{x # a comment }"
}" ; eval(y)
x = f"""{"""
"""}{eval(x)}"""
x = f'{x:\'<5}'; eval(y)
x = f"{1:'<5}{eval(y)}"
x = f"{x:{"}"}}"; eval(y)
x = f"{"\"" + eval(y)}"
x = f"{x:>10
}"; eval(y)
x = f"\N{BULLET}{{{eval(u)}}}" + z
x = f"{x:>9
}{eval(u)}" + z
x = t"{eval(y)}" + Rt"{z!r:>{w}}"
