import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kapflow.settings")
application = get_wsgi_application()
# Import every view now rather than in each worker's first request (a second or more: the
# charts alone load matplotlib). `kapflow serve` imports this before gunicorn forks the
# workers, so they start with the imports done and share them. No database is touched.
get_resolver().url_patterns  # noqa: B018
