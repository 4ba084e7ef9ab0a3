# flowfabric.notify with the background reconcilers on. deferred (the
# default): the database's reconciler worker sends the outbox notifications
# shortly after commit, one per channel (payload "deferred", sent by the
# worker, not by the committing session), many commits sharing them, and the
# events are all readable by cursor. off: nothing. immediate: one per event,
# the event id as payload, from the committing session. With no worker
# (reconcilers off, or the worker gone between the event and the commit),
# deferred mode notifies from the committing transaction itself.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use FindBin;
use lib $FindBin::RealBin;
use FlowFabricTest;

my $node = PostgreSQL::Test::Cluster->new('notify');
$node->init;
# Reconciler intervals of a minute: a notification within a second was not
# sent by a periodic reconciler run.
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'flowfabric'
flowfabric.reconcilers = on
flowfabric.launcher_interval_ms = 1000
flowfabric.lease_expiry_interval_ms = 60000
flowfabric.delayed_promotion_interval_ms = 60000
flowfabric.attempt_timeout_interval_ms = 60000
flowfabric.execution_deadline_interval_ms = 60000
flowfabric.suspension_timeout_interval_ms = 60000
flowfabric.pending_waitpoint_expiry_interval_ms = 60000
flowfabric.sibling_cancel_interval_ms = 60000
flowfabric.quota_unblock_interval_ms = 60000
log_statement = none
});
$node->start;

sub sql
{
	my ($sql) = @_;
	return $node->safe_psql('app', $sql);
}

sub worker_pid
{
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'flowfabric reconciler' AND datname = 'app'");
}

sub set_reconcilers
{
	my ($on) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET flowfabric.reconcilers = $on");
	$node->reload;
}

$node->safe_psql('postgres', 'CREATE DATABASE app');
sql('CREATE EXTENSION flowfabric');
ok(defined wait_until(10, sub { worker_pid() ne '' }), 'a reconciler worker runs in the database');
my $wpid = worker_pid();

# The listener: psql prints the notifications it received after each statement.
my $l = $node->background_psql('app');
$l->query_safe('LISTEN ff_completion');
$l->query_safe('LISTEN ff_lease_event');

# The engine's caller, a session of its own whose pid we know.
my $s = $node->background_psql('app');
my $spid = $s->query_safe('SELECT pg_backend_pid()');

# receive polls the listener every 10 ms until $done->(@so_far) is true or
# $timeout_s passed; returns the notifications as [channel, payload, pid, ms
# since the call].
sub receive
{
	my ($timeout_s, $done) = @_;
	my $start = time;
	my @got;
	for (;;)
	{
		my $out = $l->query_safe('SELECT 1');
		while ($out =~
			/Asynchronous notification "([^"]+)"(?: with payload "([^"]*)")? received from server process with PID (\d+)\./g
		  )
		{
			push @got, [ $1, $2 // '', $3, int((time - $start) * 1000) ];
		}
		last if $done->(@got) || time - $start >= $timeout_s;
		usleep(10_000);
	}
	return @got;
}

sub on_channel
{
	my ($channel, @got) = @_;
	return grep { $_->[0] eq $channel } @got;
}

# quiet makes sure nothing is in flight before a step.
sub quiet
{
	receive(0.3, sub { 0 });
}

# worker_takes_notifications waits until a claim's notification comes from
# the worker (it takes them once it has attached to the extension, a moment
# after it shows in pg_stat_activity); true if it did within 10 s.
my $probes = 0;
sub worker_takes_notifications
{
	my ($pid) = @_;
	return defined wait_until(
		10,
		sub {
			$probes++;
			sql("SELECT ff_create_execution('nt-probe-$probes')");
			sql("SELECT count(*) FROM ff_claim('nt-probe-$probes', 'w', 'w/1')");
			my @p = receive(2, sub { on_channel('ff_lease_event', @_) > 0 });
			quiet();
			return scalar(grep { $_->[2] == $pid } @p) > 0;
		});
}

is(sql('SHOW flowfabric.notify'), 'deferred', 'deferred is the default');
ok(worker_takes_notifications($wpid), 'the worker takes deferred notifications');

# --- (a) a claim and a completion, notified by the worker -------------------
my $id = sql("SELECT execution_id FROM ff_create_execution('nt-a')");
quiet();
$s->query_safe("CREATE TEMP TABLE h AS SELECT handle FROM ff_claim('nt-a', 'w', 'w/1', lease_ttl_ms => 600000)");
my @got = receive(10, sub { on_channel('ff_lease_event', @_) > 0 });
my ($lease) = on_channel('ff_lease_event', @got);
ok(defined $lease, 'a claim: a notification on ff_lease_event');
is($lease->[1], 'deferred', '... with the payload "deferred"');
is($lease->[2], $wpid, '... sent by the reconciler worker, not the claiming session');
cmp_ok($lease->[3], '<', 1000, "... within a second (took $lease->[3] ms; reconciler intervals are 60 s)");
is(scalar(on_channel('ff_completion', @got)), 0, '... and none on ff_completion');

my $cursor = sql('SELECT coalesce(max(event_id), 0) FROM ff_completion_event');
$s->query_safe('SELECT ff_complete(handle) FROM h');
@got = receive(10, sub { on_channel('ff_completion', @_) > 0 });
my ($done) = on_channel('ff_completion', @got);
ok(defined $done, 'a completion: a notification on ff_completion');
is($done->[1], 'deferred', '... with the payload "deferred"');
is($done->[2], $wpid, '... sent by the reconciler worker');
cmp_ok($done->[3], '<', 1000, "... within a second (took $done->[3] ms)");
is(sql("SELECT count(*) FROM ff_completion_events($cursor, 100) WHERE execution_id = '$id'"),
	'1', 'the woken subscriber reads the completion by cursor');

# --- (b) many events, few notifications --------------------------------------
# One transaction, 50 completions: one notification per channel.
sql("SELECT count(*) FROM ff_create_executions('nt-b1', array_fill(NULL::bytea, ARRAY[50]))");
$s->query_safe('DROP TABLE h');
$s->query_safe(
	"CREATE TEMP TABLE h AS SELECT handle FROM ff_claim('nt-b1', 'w', 'w/1', lease_ttl_ms => 600000, max_claims => 50)"
);
quiet();
$s->query_safe('SELECT count(*) FROM (SELECT ff_complete(handle) FROM h) x');
@got = receive(2, sub { 0 });
is(scalar(on_channel('ff_completion', @got)), 1,
	'50 completions in one transaction: one notification on ff_completion');
is(scalar(on_channel('ff_lease_event', @got)), 1, '... and one on ff_lease_event');

# A burst of 200 transactions: at least one notification, every event readable.
sql("SELECT count(*) FROM ff_create_executions('nt-b2', array_fill(NULL::bytea, ARRAY[200]))");
$s->query_safe('DROP TABLE h');
$s->query_safe(
	"CREATE TEMP TABLE h AS SELECT row_number() OVER () AS n, handle, execution_id "
	  . "FROM ff_claim('nt-b2', 'w', 'w/1', lease_ttl_ms => 600000, max_claims => 200)");
quiet();
$cursor = sql('SELECT coalesce(max(event_id), 0) FROM ff_completion_event');
$s->query_safe(
	q{DO $$ BEGIN FOR i IN 1..200 LOOP PERFORM ff_complete(handle) FROM h WHERE n = i; COMMIT; END LOOP; END $$});
@got = receive(10, sub { on_channel('ff_completion', @_) > 0 });
push @got, receive(1, sub { 0 });
my @completion = on_channel('ff_completion', @got);
cmp_ok(scalar(@completion), '>=', 1, '200 completing transactions: notified on ff_completion');
cmp_ok(scalar(@completion), '<=', 200, '... at most once per transaction');
note(scalar(@completion) . ' notifications on ff_completion for 200 commits');
is(scalar(grep { $_->[1] ne 'deferred' || $_->[2] != $wpid } @got),
	0, '... all of them deferred ones, from the worker');
is( sql("SELECT count(*) FROM ff_completion_events($cursor, 10000) WHERE lane_id = 'nt-b2'"),
	'200', 'all 200 completion events are readable by cursor');

# --- (c) off: nothing ---------------------------------------------------------
sql("SELECT count(*) FROM ff_create_executions('nt-c', array_fill(NULL::bytea, ARRAY[3]))");
$s->query_safe('DROP TABLE h');
quiet();
$s->query_safe('SET flowfabric.notify = off');
$s->query_safe(
	"CREATE TEMP TABLE h AS SELECT handle FROM ff_claim('nt-c', 'w', 'w/1', lease_ttl_ms => 600000, max_claims => 3)");
$s->query_safe('SELECT ff_complete(handle) FROM h');
@got = receive(1, sub { 0 });
is(scalar(@got), 0, 'notify = off: a claim and completions send nothing');
$s->query_safe(q{NOTIFY ff_completion, 'marker'});
@got = receive(5, sub { @_ > 0 });
is($got[0][1], 'marker', '... the listener is alive: the next thing it gets is a marker');

# --- (d) immediate: one per event, the event id, from the session -----------
sql("SELECT count(*) FROM ff_create_executions('nt-d', array_fill(NULL::bytea, ARRAY[5]))");
$s->query_safe('DROP TABLE h');
$s->query_safe('SET flowfabric.notify = immediate');
quiet();
$s->query_safe(
	"CREATE TEMP TABLE h AS SELECT handle FROM ff_claim('nt-d', 'w', 'w/1', lease_ttl_ms => 600000, max_claims => 5)");
$s->query_safe('SELECT count(*) FROM (SELECT ff_complete(handle) FROM h) x');
@got = receive(5, sub { on_channel('ff_completion', @_) >= 5 && on_channel('ff_lease_event', @_) >= 10 });
my $ids = sql(
	"SELECT string_agg(event_id::text, ',' ORDER BY event_id) FROM ff_completion_event WHERE lane_id = 'nt-d'");
is(join(',', sort { $a <=> $b } map { $_->[1] } on_channel('ff_completion', @got)),
	$ids, 'immediate: one ff_completion notification per event, the event id as payload');
is(scalar(on_channel('ff_lease_event', @got)), 10, '... one ff_lease_event per lease event (5 claims, 5 releases)');
is(scalar(grep { $_->[2] != $spid } @got), 0, '... sent by the committing session');
$s->query_safe('RESET flowfabric.notify');

# --- (e) no worker: deferred falls back to notifying in the transaction ------
set_reconcilers('off');
ok(defined wait_until(10, sub { worker_pid() eq '' }), 'reconcilers off: the worker exits');
sql("SELECT count(*) FROM ff_create_executions('nt-e', array_fill(NULL::bytea, ARRAY[2]))");
$s->query_safe('DROP TABLE h');
quiet();
$s->query_safe(
	"CREATE TEMP TABLE h AS SELECT handle FROM ff_claim('nt-e', 'w', 'w/1', lease_ttl_ms => 600000, max_claims => 1)");
@got = receive(5, sub { on_channel('ff_lease_event', @_) > 0 });
($lease) = on_channel('ff_lease_event', @got);
ok(defined $lease, 'deferred without a worker: the claim is still notified');
is($lease->[2], $spid, '... by the claiming session itself');
is( $lease->[1],
	sql("SELECT max(event_id) FROM ff_lease_event"),
	'... with the event id as payload (immediate fallback)');

# The worker goes away between the event and the commit: the commit notifies.
set_reconcilers('on');
ok(defined wait_until(10, sub { worker_pid() ne '' }), 'reconcilers on again: a worker starts');
$wpid = worker_pid();
ok(worker_takes_notifications($wpid), '... and sends the deferred notifications again');
quiet();
$s->query_safe('BEGIN');
$s->query_safe(
	"CREATE TEMP TABLE h2 AS SELECT handle FROM ff_claim('nt-e', 'w', 'w/1', lease_ttl_ms => 600000, max_claims => 1)");
set_reconcilers('off');
ok(defined wait_until(10, sub { worker_pid() eq '' }), 'the worker exits while a claiming transaction is open');
$s->query_safe('COMMIT');
@got = receive(5, sub { on_channel('ff_lease_event', @_) > 0 });
($lease) = on_channel('ff_lease_event', @got);
ok(defined $lease, 'the claim deferred to the vanished worker is notified at commit');
is($lease->[2], $spid, '... by the claiming session');
is($lease->[1], 'deferred', '... with the deferred payload');

$s->quit;
$l->quit;
$node->stop;
done_testing();
