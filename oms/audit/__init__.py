"""The operation log (操作日志, P3): who did what to which object, with before/after values."""
