import paramiko

client = paramiko.SSHClient()
# ruleid: py.ssh-auto-add-host-key
client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
# ok: py.ssh-auto-add-host-key
client.set_missing_host_key_policy(paramiko.RejectPolicy())
