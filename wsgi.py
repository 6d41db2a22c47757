"""The application for WSGI servers: `gunicorn wsgi:app`."""

import os

from webinar import create_app

app = create_app(os.environ.get("WEBINAR_CONFIG", "development"))
