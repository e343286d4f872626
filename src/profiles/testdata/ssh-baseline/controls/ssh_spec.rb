# encoding: utf-8
# copyright: Brigade tests

title 'SSH server configuration'

ssh_port = input('ssh_port', value: 22)

=begin
control 'commented-out' do
  impact 1.0
end
=end

control 'ssh-01' do
  impact 0.7
  title 'Server: Check for secure ssh ciphers'
  desc 'Configure a list of ciphers to the best secure ciphers (avoid older and weaker ciphers)'
  desc 'rationale', "Weak ciphers \"leak\" data"
  tag 'ssh', 'sshd', cis: '5.2.11', nist: ['SC-8', 'SC-13']
  ref 'NSA-RH6-STIG - Section 3.5.2.1', url: 'https://example.com/stig.pdf'
  ref({ 'ref' => 'hash-style', :url => 'https://example.com/{x}' })

  describe sshd_config do
    its('Ciphers') { should eq('aes256-ctr,aes192-ctr') }
    its('Port') { should cmp ssh_port }
  end
end

control "ssh-02" do
  impact 'high' # a named level
  title "Server: Do not permit root login"
  desc <<~EOS
    Root login over SSH gives an attacker
      a direct path to the system.
  EOS
  only_if('sshd is installed') { command('sshd').exist? }
  describe sshd_config do
    its('PermitRootLogin') { should match /no|without-password/ }
  end
end

control 'ssh-03' do
  impact 0.9
  title %q{Server: Use protocol 'v2' only}
  desc %Q(Protocol (version) 1 is "broken")
  [1, 2].each do |v|
    describe file("/etc/ssh/sshd_config.d/#{v}.conf") do
      it { should_not exist }
    end
  end
end

describe port(22) do
  it { should be_listening }
end
