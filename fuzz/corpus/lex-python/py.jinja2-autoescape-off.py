import jinja2
from jinja2 import Environment, select_autoescape

# ruleid: py.jinja2-autoescape-off
env = jinja2.Environment(loader=loader, autoescape=False)
# ok: py.jinja2-autoescape-off
safe = Environment(loader=loader, autoescape=select_autoescape())
