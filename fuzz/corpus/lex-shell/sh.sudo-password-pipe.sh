#!/bin/sh
# ruleid: sh.sudo-password-pipe
echo "$PASSWORD" | sudo -S systemctl restart app
# ok: sh.sudo-password-pipe
sudo -n systemctl restart app
