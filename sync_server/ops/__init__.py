"""Operations: Prometheus metrics, structured JSON logs and alerts (the probes are in
sync_server.health, which the load balancer and the deployment docs already name)."""
