# puma's rackup file: the app is config/application.py's.
require_relative 'config/environment'
run Rails.application
