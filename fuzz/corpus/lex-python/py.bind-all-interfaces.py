import socket

s = socket.socket()
# ruleid: py.bind-all-interfaces
s.bind(("0.0.0.0", 8080))
# ok: py.bind-all-interfaces
s.bind(("127.0.0.1", 8080))
