# Read by the stand-in's `puma` like Puma reads it: the `port`, `pidfile`,
# `environment` and `threads` lines (options on the command line win).
max_threads_count = ENV.fetch("RAILS_MAX_THREADS") { 5 }
min_threads_count = ENV.fetch("RAILS_MIN_THREADS") { max_threads_count }
threads min_threads_count, max_threads_count

port ENV.fetch("PORT") { 3000 }
environment ENV.fetch("RAILS_ENV") { "development" }

# tmp/pids is not in the image (.dockerignore drops tmp/*): without
# --pidfile or PIDFILE, puma fails to write this file.
pidfile ENV.fetch("PIDFILE") { "tmp/pids/server.pid" }

plugin :tmp_restart
