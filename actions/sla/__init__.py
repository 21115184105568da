"""SLA monitoring: response and resolution targets, CI health, and incident response."""
