# Background reconcilers survive a kill -9 of the reconciler process (the
# whole server goes through crash recovery and the launcher starts a new
# worker) and an immediate-mode restart: executions abandoned by vanished
# workers are reclaimed and finished, none is lost and none finishes twice.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use FlowFabricTest;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'flowfabric'
flowfabric.reconcilers = on
restart_after_crash = on
log_statement = none
});
$node->start;

sub sql
{
	my ($sql) = @_;
	return $node->safe_psql('app', $sql);
}

# worker_pid returns the reconciler's pid, '' if none (or the server is down).
sub worker_pid
{
	my ($ret, $out) = $node->psql('app',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'flowfabric reconciler' AND datname = 'app'"
	);
	return $ret == 0 ? $out : '';
}

# claim_abandon claims up to $n executions of a lane on short leases, as a
# worker that then vanishes without completing them.
sub claim_abandon
{
	my ($lane, $n) = @_;
	return sql("SELECT count(*) FROM ff_claim('$lane', 'ghost', 'ghost/1', lease_ttl_ms => 400, max_claims => $n)");
}

# finish_all claims and completes until every execution of the lane is done.
sub finish_all
{
	my ($lane, $worker, $total) = @_;
	return wait_until(
		20,
		sub {
			my $handles = sql(
				"SELECT handle FROM ff_claim('$lane', '$worker', '$worker/1', lease_ttl_ms => 30000, max_claims => 10)");
			for my $h (split /\n/, $handles)
			{
				sql("SELECT ff_complete('$h'::bytea)");
			}
			return sql("SELECT count(*) FROM ff_execution WHERE lane_id = '$lane' AND public_state = 'completed'")
			  == $total;
		});
}

# check_exactly_once: every execution of the lane completed once, with one
# success event each, and the abandoned ones were reclaimed once each.
sub check_exactly_once
{
	my ($lane, $total, $abandoned, $what) = @_;
	is(sql("SELECT count(*) FROM ff_execution WHERE lane_id = '$lane'"), $total, "$what: no execution lost");
	is(sql("SELECT count(*) FROM ff_execution WHERE lane_id = '$lane' AND public_state = 'completed'"),
		$total, "$what: all completed");
	is( sql(
			"SELECT count(*) || '/' || count(DISTINCT execution_id) || '/' || count(*) FILTER (WHERE outcome = 'success') "
			  . "FROM ff_completion_event WHERE lane_id = '$lane'"),
		"$total/$total/$total",
		"$what: one success event per execution, none twice");
	is( sql(
			"SELECT count(*) || '/' || count(DISTINCT execution_id) FROM ff_lease_event "
			  . "JOIN ff_execution e USING (partition_key, execution_id) "
			  . "WHERE e.lane_id = '$lane' AND event_type = 'reclaimed'"),
		"$abandoned/$abandoned",
		"$what: each abandoned execution was reclaimed once");
	is( sql(
			"SELECT count(*) FROM ff_lease_event JOIN ff_execution e USING (partition_key, execution_id) "
			  . "WHERE e.lane_id = '$lane' AND event_type = 'expired' AND reason = 'lease_expired'"),
		$abandoned,
		"$what: by the lease-expiry reconciler");
}

is( $node->safe_psql('postgres',
		"SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ',' ORDER BY name) FROM pg_settings "
		  . "WHERE name IN ('flowfabric.reconcilers', 'flowfabric.reconciler_batch_size', 'flowfabric.launcher_interval_ms', "
		  . "'flowfabric.execution_deadline_interval_ms', 'flowfabric.attempt_timeout_interval_ms', "
		  . "'flowfabric.lease_expiry_interval_ms', 'flowfabric.delayed_promotion_interval_ms')"
	),
	'flowfabric.attempt_timeout_interval_ms=2000ms,flowfabric.delayed_promotion_interval_ms=750ms,'
	  . 'flowfabric.execution_deadline_interval_ms=5000ms,flowfabric.launcher_interval_ms=10000ms,'
	  . 'flowfabric.lease_expiry_interval_ms=1500ms,flowfabric.reconciler_batch_size=1000,flowfabric.reconcilers=on',
	'reconciler settings and their defaults');
is( $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_settings WHERE context = 'sighup' AND name IN ('flowfabric.reconcilers', "
		  . "'flowfabric.reconciler_batch_size', 'flowfabric.launcher_interval_ms', "
		  . "'flowfabric.execution_deadline_interval_ms', 'flowfabric.attempt_timeout_interval_ms', "
		  . "'flowfabric.lease_expiry_interval_ms', 'flowfabric.delayed_promotion_interval_ms')"),
	'7', 'all reloadable');
$node->safe_psql('postgres', 'CREATE DATABASE app');
sql('CREATE EXTENSION flowfabric');
ok(defined wait_until(10, sub { worker_pid() ne '' }), 'a reconciler runs');

# --- kill -9 of the reconciler -----------------------------------------------------
sql("SELECT count((ff_create_execution('crash')).execution_id) FROM generate_series(1, 30)");
is(claim_abandon('crash', 10), '10', '10 executions claimed by a worker that vanishes');
my $done = sql(
	"SELECT count(*) FROM (SELECT ff_complete(handle) FROM ff_claim('crash', 'early', 'early/1', "
	  . "lease_ttl_ms => 30000, max_claims => 10)) done");
is($done, '10', '10 others completed before the crash');

my $pid = worker_pid();
kill 'KILL', $pid;
ok( defined wait_until(30, sub { my $p = worker_pid(); $p ne '' && $p ne $pid }),
	'after kill -9 of the reconciler, the server recovers and a new reconciler runs');
ok($node->log_contains(qr/background worker "flowfabric reconciler" \(PID $pid\) was terminated by signal 9/),
	'the server saw the reconciler killed');
ok(defined finish_all('crash', 'after-crash', 30), 'a new worker finishes everything, the abandoned ones included');
check_exactly_once('crash', 30, 10, 'kill -9');

# --- immediate-mode restart ---------------------------------------------------------
sql("SELECT count((ff_create_execution('restart')).execution_id) FROM generate_series(1, 20)");
is(claim_abandon('restart', 8), '8', '8 executions claimed by a worker that vanishes');
$node->stop('immediate');
$node->start;
ok(defined wait_until(30, sub { worker_pid() ne '' }), 'after an immediate restart a reconciler runs again');
ok(defined finish_all('restart', 'after-restart', 20), 'a new worker finishes everything');
check_exactly_once('restart', 20, 8, 'immediate restart');
check_exactly_once('crash', 30, 10, 'earlier executions after the restart');

$node->stop;
done_testing();
