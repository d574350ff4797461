import os

# Tests run with production-like settings (DEBUG off), which require a secret key.
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789")
