"""The day simulator: a whole day at a real demo mall in simulated time, through the real
quote, order, route, offer and dispatch services (see docs/simulator.md)."""
