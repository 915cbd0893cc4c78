# puma's rackup file: the app is config/application.py's.
require ::File.expand_path('../config/environment', __FILE__)
run Rails.application
