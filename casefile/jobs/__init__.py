"""Background jobs: long work (large imports, large packets, evidence verify, backups) run
outside the request, by RQ workers when Redis is configured and by a thread otherwise."""
