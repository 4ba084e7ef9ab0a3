# Helpers shared by the Perl TAP tests in this directory.
package FlowFabricTest;

use strict;
use warnings;

use Exporter 'import';
use Time::HiRes qw(time usleep);

our @EXPORT = qw(wait_until);

# wait_until polls $check every 20 ms until it returns true, for at most
# $timeout_s seconds: the time it took, or undef if it never did.
sub wait_until
{
	my ($timeout_s, $check) = @_;
	my $start = time;
	while (time - $start < $timeout_s)
	{
		return time - $start if $check->();
		usleep(20_000);
	}
	return undef;
}

1;
