"""In-process fakes of third-party services, shared by several test folders."""
