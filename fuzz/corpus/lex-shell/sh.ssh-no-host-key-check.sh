#!/bin/sh
# ruleid: sh.ssh-no-host-key-check
ssh -o StrictHostKeyChecking=no deploy@host uptime
# ok: sh.ssh-no-host-key-check
ssh -o StrictHostKeyChecking=yes deploy@host uptime
