"""Where GitHub history comes from: the live API, recordings, the sample organisation."""
