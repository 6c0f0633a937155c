"""Running leadsieve: Redis and RQ queues, the sweeper, the launcher, embedded Redis, migrations, demo seed."""
