import os

# ruleid: py.django-debug
DEBUG = True
# ok: py.django-debug
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
