"""Site → pages and generated files. The modules are siblings: each imports only model/, core/ and
config.py, never another (stats.py draws with its own charts.py; site.py gathers them all for the
pipeline); what one makes for another (related entries, honor rolls, the weeks' digests) is passed in."""
