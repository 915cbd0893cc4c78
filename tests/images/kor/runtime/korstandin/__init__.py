"""korstandin: the "Ruby runtime" of korcluster's ConedaKOR stand-ins.

Installed as /usr/local/lib/korstandin in 127.0.0.1:5000/korcluster-test/ruby:3.2.3
and behind the /usr/local/bin shims bundle, rake, rails, puma, irb and ruby.
It plays the part of Ruby and the gems (bundler, rake, rails, puma, mysql2,
delayed_job, the Elasticsearch client): the applications themselves (the
ConedaKOR v5 source tree, tests/images/kor/source, and the KorCluster-era
one, tests/images/kor-legacy) declare their version, configuration,
migrations and features in config/application.py and use kor.Kor.

  common   logging, signals, atomic writes, app loading
  db       DATABASE_URL, MySQL connections with bounded name lookups
  elastic  a small Elasticsearch HTTP client
  web      the HTTP server behind `puma` (and `rails server`)
  kor      the ConedaKOR model: migrations, tasks, indexing, worker, routes
  cli      the shims' command lines
"""
