from django.utils.safestring import mark_safe

def render(name):
    # ruleid: py.mark-safe
    html = mark_safe("<b>" + name + "</b>")
    # ok: py.mark-safe
    sep = mark_safe("<hr>")
    return html, sep
