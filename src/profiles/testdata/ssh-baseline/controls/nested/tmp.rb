control 'tmp-1.0' do                        # A unique ID for this control
  impact 1.5                                # clamped to 1.0
  title 'Create /tmp directory'
  desc "An optional description with \"escaped\" quotes and a tab:\t."
  desc 'check', 'Run `ls -ld /tmp`.'
  describe file('/tmp') do
    it { should be_directory }
  end
end

control 'tmp-2.0' do
  impact 'medium'
  title 'A title ' \
        'continued on the next line'
  desc <<-EOS
    Indented heredoc: keeps its indentation.
    EOS
  describe file('/tmp') do
    it { should be_owned_by 'root' }
    its('mode') { should cmp '01777' }
  end
  describe command('echo #{not interpolated} do') do
    its('stdout') { should eq "x\n" }
  end
end

control 'tmp-3.0' do
  impact(-1)
  title 'Negative impact'
  desc 'Single \'quoted\' with a backslash \\ and \n kept'
  if os.linux?
    describe 'nested if' do
      it { should eq 'nested if' }
    end
  end
  x = 5 unless false
  describe x do
    it { should eq 5 }
  end
end

rule 'legacy-rule' do
  impact 0.3
  title 'A legacy rule'
end
