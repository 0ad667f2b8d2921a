import random
import secrets
import string

def make():
    # ruleid: py.random-for-secret
    session_token = random.getrandbits(128)
    # ruleid: py.random-for-secret
    password = "".join(random.choice(string.ascii_letters) for _ in range(12))
    # ok: py.random-for-secret
    api_key = secrets.token_hex(32)
    # ok: py.random-for-secret
    jitter = random.uniform(0, 1)
