def delete(request, obj):
    # ruleid: py.assert-authorization
    assert request.user.is_admin, "admins only"
    # ok: py.assert-authorization
    assert obj is not None
    if not request.user.has_perm("delete"):
        raise PermissionError()
