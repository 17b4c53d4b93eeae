#!/usr/bin/ruby
# BBB runs every post_publish/*.rb as `ruby <script> -m <recordID> -f <format>` (rap-base-worker.rb); the upload
# itself is the shell program next to the balancer's other node files, so it can be run and tested on its own.
exec('/usr/local/bin/mediaplane-recording-upload', *ARGV)
