"""Reports: contact-center KPIs from the queue events (and, later, staffing with Erlang C)."""
