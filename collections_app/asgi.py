import os

from django.core.asgi import get_asgi_application

# Servers run production settings unless told otherwise: the development settings are for
# manage.py on a developer's machine.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collections_app.settings_production")
application = get_asgi_application()
