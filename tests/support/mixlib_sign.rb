#!/usr/bin/env ruby
# Signs one request with mixlib-authentication (the signing library knife and chef-client
# use) and prints the headers to send as JSON. Input on stdin, a JSON object:
#   {"key_path", "method", "path", "body", "user_id", "protocol": "1.0"|"1.1"|"1.3",
#    "server_api_version" (optional), "timestamp" (optional, default now)}
require "json"
require "openssl"
require "time"
require "mixlib/authentication/signedheaderauth"

input = JSON.parse($stdin.read)
key = OpenSSL::PKey::RSA.new(File.read(input.fetch("key_path")))
protocol = input.fetch("protocol")
api = input["server_api_version"]
extra = api ? { "X-Ops-Server-API-Version" => api } : {}
signer = Mixlib::Authentication::SignedHeaderAuth.signing_object(
  http_method: input.fetch("method"),
  path: input.fetch("path"),
  body: input.fetch("body", ""),
  timestamp: input["timestamp"] || Time.now.utc.iso8601,
  user_id: input.fetch("user_id"),
  proto_version: protocol,
  headers: extra
)
algorithm = protocol == "1.3" ? "sha256" : "sha1"
headers = signer.sign(key, sign_algorithm: algorithm, sign_version: protocol)
puts JSON.generate(headers.merge(extra))
