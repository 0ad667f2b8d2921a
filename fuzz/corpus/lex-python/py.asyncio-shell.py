import asyncio

async def run(cmd):
    # ruleid: py.asyncio-shell
    p = await asyncio.create_subprocess_shell(cmd)
    # ok: py.asyncio-shell
    q = await asyncio.create_subprocess_exec("ls", "-l")
