"""The application for WSGI servers: `gunicorn wsgi:app`."""

import gc
import os

from webinar import create_app

app = create_app(os.environ.get("WEBINAR_CONFIG", "development"))
# What start-up built (modules, the app, its templates and statements) lives as
# long as the process: keep it out of the collector's full passes, which would
# otherwise walk it again and again while requests are served.
gc.freeze()
