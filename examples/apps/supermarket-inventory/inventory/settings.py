import os

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")
ROOT_URLCONF = "inventory.urls"
WSGI_APPLICATION = "inventory.wsgi.application"
INSTALLED_APPS = ["django.contrib.contenttypes", "inventory"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
USE_TZ = True

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": os.environ.get("POSTGRES_HOST", "localhost"),
        "PORT": os.environ.get("POSTGRES_PORT", "5432"),
        "NAME": os.environ.get("POSTGRES_DB", "inventory"),
        "USER": os.environ.get("POSTGRES_USER", "inventory"),
        "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
        "CONN_MAX_AGE": 60,
    }
}
