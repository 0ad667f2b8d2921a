import requests

def fetch(url, session):
    # ruleid: py.requests-verify-disabled
    r = requests.get(url, verify=False)
    # ruleid: py.requests-verify-disabled
    session.verify = False
    # ok: py.requests-verify-disabled
    s = requests.get(url, timeout=10)
    # ok: py.requests-verify-disabled
    t = requests.post(url, verify="/etc/ssl/ca.pem")
