"""The sales manager's SLA page (/manager/sla/) and its CSV export of breaches:
filters, the reads behind the page (``queries``), views and URLs. The daily
rollup it reads is written by ``routing.services.sla_rollup``."""
