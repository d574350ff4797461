"""Test settings: production settings (DEBUG off) with a throwaway secret key.

pytest-django imports settings before any conftest.py runs, so the key is set here.
"""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-use-0123456789")
# Rate limits are tested on purpose (tests/reliability); elsewhere they would only add noise.
os.environ.setdefault("WAREHOUSE_RATE_LIMIT_BACKEND", "off")
# Generous per-address limits for tests that do switch the backend on; hostile tests tighten.
os.environ.setdefault("WAREHOUSE_NEW_LEARNERS_LIMIT", "1000")
os.environ.setdefault("WAREHOUSE_JOIN_LIMIT", "1000")
os.environ.setdefault("WAREHOUSE_ADMIN_LOGIN_LIMIT", "1000")

from hub.settings import *  # noqa: E402, F403
