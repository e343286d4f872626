#!/usr/bin/env ruby
# Signs one request with mixlib-authentication (the signing library knife and chef-client
# use; Debian package ruby-mixlib-authentication) and prints the headers to send as one JSON
# object, name => value. Input on stdin, a JSON object:
#   key_path            PEM RSA private key of the requestor
#   method, path, body  request line and body ("" or absent for none)
#   user_id             user or client name
#   protocol            "1.0" | "1.1" | "1.3"
#   server_api_version  optional; sent as X-Ops-Server-API-Version and, for 1.3, signed
#                       (mixlib signs "0" when it is absent)
#   timestamp           optional ISO 8601 time; default now (for the published test vectors)
require "json"
require "openssl"
require "time"
require "mixlib/authentication/signedheaderauth"

input = JSON.parse($stdin.read)
key = OpenSSL::PKey::RSA.new(File.read(input.fetch("key_path")))
protocol = input.fetch("protocol")
algorithm = Mixlib::Authentication::SignedHeaderAuth::ALGORITHM_FOR_VERSION.fetch(protocol) do
  abort "mixlib_sign.rb: unsupported protocol #{protocol.inspect}"
end
api = input["server_api_version"]
extra = api ? { "X-Ops-Server-API-Version" => api.to_s } : {}

signer = Mixlib::Authentication::SignedHeaderAuth.signing_object(
  http_method: input.fetch("method"),
  path: input.fetch("path"),
  body: input["body"] || "",
  timestamp: input["timestamp"] || Time.now.utc.iso8601,
  user_id: input.fetch("user_id"),
  proto_version: protocol,
  headers: extra
)
headers = signer.sign(key, sign_algorithm: algorithm, sign_version: protocol)
puts JSON.generate(headers.merge(extra))
