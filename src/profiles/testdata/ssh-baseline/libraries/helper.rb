class BrigadeHelper < Inspec.resource(1)
  name 'brigade_helper'
  desc 'A helper resource for tests'

  def ok?
    true
  end
end
