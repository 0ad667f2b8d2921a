import ftplib
import telnetlib

# ruleid: py.cleartext-protocol
t = telnetlib.Telnet("host")
# ok: py.cleartext-protocol
f = ftplib.FTP_TLS("host")
