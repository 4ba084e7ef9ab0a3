# Background reconcilers: with the library preloaded, leases expire, delays
# promote, attempts time out and deadlines fire without any SQL call; the
# workers follow CREATE/DROP EXTENSION, DROP DATABASE and
# flowfabric.reconcilers; ff_reconciler_status reports runs, rows and errors.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time usleep);
use FindBin;
use lib $FindBin::RealBin;
use FlowFabricTest;

my $node = PostgreSQL::Test::Cluster->new('bgw');
$node->init;
# Intervals of a minute: everything below happens within a second, so only
# the due-time wake-ups (not the interval ticks) can have done it.
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'flowfabric'
flowfabric.reconcilers = on
flowfabric.lease_expiry_interval_ms = 60000
flowfabric.delayed_promotion_interval_ms = 60000
flowfabric.attempt_timeout_interval_ms = 60000
flowfabric.execution_deadline_interval_ms = 60000
flowfabric.suspension_timeout_interval_ms = 60000
flowfabric.pending_waitpoint_expiry_interval_ms = 60000
flowfabric.launcher_interval_ms = 1000
log_statement = none
});
$node->start;

sub sql
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

sub worker_pid
{
	my ($db) = @_;
	return sql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'flowfabric reconciler' "
		  . "AND application_name = 'flowfabric reconciler' AND datname = '$db'");
}

sub status
{
	my ($db, $reconciler, $cols) = @_;
	return sql($db, "SELECT $cols FROM ff_reconciler_status "
		  . "WHERE database = current_database() AND reconciler = '$reconciler'");
}

sql('postgres', 'CREATE DATABASE app');
sql('postgres', 'CREATE DATABASE plain');
sql('app', 'CREATE EXTENSION flowfabric');

# --- workers and where they run ---------------------------------------------
is( sql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowfabric launcher' "
		  . "AND application_name = 'flowfabric launcher' AND datname IS NULL"),
	'1',
	'one launcher, connected to no database, visible in pg_stat_activity');
ok(defined wait_until(10, sub { worker_pid('app') ne '' }),
	'a reconciler runs in the database with the extension');
my $pid = worker_pid('app');
like(
	sql('postgres', "SELECT backend_type || '/' || application_name FROM pg_stat_activity WHERE pid = $pid"),
	qr{^flowfabric reconciler/flowfabric reconciler$},
	'the reconciler is named in pg_stat_activity');
my $seen_plain = 0;
for (1 .. 10)
{
	$seen_plain++ if worker_pid('plain') ne '';
	usleep(50_000);
}
is($seen_plain, 0, 'no reconciler in a database without the extension');
is(sql('app', "SELECT count(*) FROM ff_reconciler_status WHERE database <> 'app'"),
	'0', 'ff_reconciler_status lists only databases with a reconciler');
is( sql('app',
		"SELECT string_agg(reconciler || ':' || interval_ms, ',' ORDER BY reconciler) FROM ff_reconciler_status "
		  . "WHERE reconciler IN ('attempt_timeout', 'delayed_promotion', 'execution_deadline', 'lease_expiry')"),
	'attempt_timeout:60000,delayed_promotion:60000,execution_deadline:60000,lease_expiry:60000',
	'one status row per reconciler, with its interval setting');

# --- lease expiry: a vanished worker's execution is reclaimed ----------------
my $id = sql('app', "SELECT execution_id FROM ff_create_execution('reclaim')");
my $expires = sql('app',
	"SELECT lease_expires_at_ms FROM ff_claim('reclaim', 'w-a', 'w-a/1', lease_ttl_ms => 300)");
my ($handle, $claimed_id, $attempt, $claimed_at);
ok( defined wait_until(
		5,
		sub {
			my $row = sql('app',
				"SELECT handle, execution_id, attempt_index, ff_server_time_ms() "
				  . "FROM ff_claim('reclaim', 'w-b', 'w-b/1', lease_ttl_ms => 30000)");
			return 0 if $row eq '';
			($handle, $claimed_id, $attempt, $claimed_at) = split /\|/, $row;
			return 1;
		}),
	'another worker reclaims the execution whose worker vanished');
is($claimed_id, $id, 'it is the abandoned execution');
is($attempt, '1', 'as a new (reclaim) attempt');
cmp_ok($claimed_at - $expires, '<', 1000, 'within a second of the lease expiry (interval is 60 s)');
sql('app', "SELECT ff_complete('$handle'::bytea)");
is(sql('app', "SELECT public_state FROM ff_read_execution_info('$id')"), 'completed',
	'the second worker completes it');
is( sql('app',
		"SELECT string_agg(outcome, ',') FROM ff_completion_event WHERE execution_id = (ff_split_execution_id('$id')).execution_uuid"
	),
	'success',
	'exactly one completion event');
is( sql('app',
		"SELECT string_agg(event_type || coalesce(':' || reason, ''), ',' ORDER BY event_id) FROM ff_lease_event "
		  . "WHERE execution_id = (ff_split_execution_id('$id')).execution_uuid"),
	'acquired,expired:lease_expired,reclaimed,released:completed',
	'lease history: acquired, expired by the reconciler, reclaimed, released');

# --- delayed promotion: claimable on time, not before ------------------------
my $due = sql('app', 'SELECT ff_server_time_ms() + 1500');
my $delayed = sql('app', "SELECT execution_id FROM ff_create_execution('delayed', delay_until => $due)");
is(sql('app', "SELECT count(*) FROM ff_claim('delayed', 'w', 'w/1')"), '0', 'not claimable before it is due');
my $promoted_at;
ok( defined wait_until(
		6,
		sub {
			my $row = sql('app',
				"SELECT ff_server_time_ms() FROM ff_claim('delayed', 'w', 'w/1') WHERE execution_id = '$delayed'");
			$promoted_at = $row if $row ne '';
			return $row ne '';
		}),
	'the delayed execution becomes claimable by itself');
cmp_ok($promoted_at, '>=', $due, 'not before its delay_until');
cmp_ok($promoted_at - $due, '<', 1000, 'within a second of its delay_until (interval is 60 s)');

# --- attempt timeout -----------------------------------------------------------
my $timed = sql('app',
	"SELECT execution_id FROM ff_create_execution('timeout', policy => '{\"timeout_policy\": {\"attempt_timeout_ms\": 500}}')"
);
sql('app', "SELECT count(*) FROM ff_claim('timeout', 'w', 'w/1', lease_ttl_ms => 60000)");
ok(defined wait_until(5, sub { sql('app', "SELECT public_state FROM ff_read_execution_info('$timed')") eq 'expired' }),
	'an attempt past attempt_timeout_ms fails by itself (no retry policy: expired)');
cmp_ok(
	sql('app',
		"SELECT a.ended_at_ms - a.started_at_ms FROM ff_attempt a "
		  . "WHERE a.execution_id = (ff_split_execution_id('$timed')).execution_uuid"),
	'<', 1500, 'within a second of the timeout');
is( sql('app',
		"SELECT end_reason FROM ff_attempt WHERE execution_id = (ff_split_execution_id('$timed')).execution_uuid"),
	'attempt_timeout',
	'ended by the attempt-timeout reconciler');

# --- execution deadline --------------------------------------------------------
my $deadline = sql('app',
	"SELECT execution_id FROM ff_create_execution('deadline', execution_deadline_at => ff_server_time_ms() + 500)");
ok( defined wait_until(5, sub { sql('app', "SELECT public_state FROM ff_read_execution_info('$deadline')") eq 'expired' }),
	'an execution past its deadline expires by itself');

# --- suspension timeout, pending waitpoint expiry -------------------------------
sql('app', "SELECT outcome FROM ff_seed_waitpoint_hmac_secret('kid-1', repeat('ab', 32))");
my $suspended = sql('app', "SELECT execution_id FROM ff_create_execution('suspend')");
my $sh = sql('app', "SELECT handle FROM ff_claim('suspend', 'w', 'w/1', lease_ttl_ms => 60000)");
my $sdue = sql('app', 'SELECT ff_server_time_ms() + 500');
sql('app', "SELECT count(*) FROM ff_suspend('$sh'::bytea, '[\"wpk:a\"]', timeout_at => $sdue, timeout_behavior => 'fail')");
is(sql('app', "SELECT public_state FROM ff_read_execution_info('$suspended')"), 'suspended', 'an execution suspends with a timeout');
ok(defined wait_until(5, sub { sql('app', "SELECT public_state FROM ff_read_execution_info('$suspended')") eq 'failed' }),
	'its suspension times out by itself (behaviour fail)');
cmp_ok(sql('app', "SELECT terminal_at_ms FROM ff_execution WHERE execution_id = (ff_split_execution_id('$suspended')).execution_uuid") - $sdue,
	'<', 1000, 'within a second of timeout_at (interval is 60 s)');
sql('app', "SELECT count(*) FROM ff_create_execution('waitpoint')");
my $wh = sql('app', "SELECT handle FROM ff_claim('waitpoint', 'w', 'w/1', lease_ttl_ms => 60000)");
my $wp = sql('app', "SELECT waitpoint_id FROM ff_create_waitpoint('$wh'::bytea, 'wpk:p', 400)");
ok( defined wait_until(5, sub { sql('app', "SELECT state || ':' || close_reason FROM ff_waitpoint WHERE waitpoint_id = '$wp'") eq 'closed:never_committed' }),
	'a pending waitpoint nobody suspended on expires by itself');
cmp_ok(sql('app', "SELECT closed_at_ms - expires_at_ms FROM ff_waitpoint WHERE waitpoint_id = '$wp'"),
	'<', 1000, 'within a second of its expiry');

# --- status ---------------------------------------------------------------------
for my $r (
	qw(lease_expiry delayed_promotion attempt_timeout execution_deadline suspension_timeout pending_waitpoint_expiry))
{
	my ($runs, $rows, $errors, $wpid) = split /\|/, status('app', $r, 'runs, rows_changed, errors, worker_pid');
	cmp_ok($runs, '>=', 2, "$r: runs counted");
	cmp_ok($rows, '>=', 1, "$r: rows changed counted");
	is($errors, '0', "$r: no errors");
	is($wpid, $pid, "$r: worker pid shown");
}
like(status('app', 'delayed_promotion', "last_run_at > now() - interval '1 minute' AND last_duration_ms >= 0"),
	qr/^t$/, 'last run time and duration shown');
for my $r (qw(cancel_backlog sibling_cancel dependencies))
{
	cmp_ok(status('app', $r, 'runs'), '>=', 1, "$r: runs on its interval");
}

# --- who may read the status; misuse of the wake-up trigger -------------------
sql('app', 'CREATE ROLE nobody; CREATE ROLE watcher IN ROLE pg_monitor');
my ($ret, $out, $err) = $node->psql('app', 'SET ROLE nobody; SELECT count(*) FROM ff_reconciler_status',
	extra_params => [ '-v', 'VERBOSITY=sqlstate' ]);
like($err, qr/42501/, 'PUBLIC cannot read ff_reconciler_status (42501)');
is(sql('app', 'SET ROLE watcher; SELECT count(*) > 0 FROM ff_reconciler_status'), 't', 'pg_monitor can');
sql('app', 'CREATE TABLE wake_misuse (due bigint, label text)');
sql('app', "CREATE TRIGGER after_row AFTER INSERT ON wake_misuse FOR EACH ROW EXECUTE FUNCTION ff_reconciler_wake('due')");
($ret, $out, $err) = $node->psql('app', 'INSERT INTO wake_misuse VALUES (1, 2)', extra_params => [ '-v', 'VERBOSITY=sqlstate' ]);
like($err, qr/39P01/, 'ff_reconciler_wake refuses to be an AFTER trigger (39P01)');
sql('app', "DROP TRIGGER after_row ON wake_misuse; CREATE TRIGGER before_row BEFORE INSERT ON wake_misuse "
	  . "FOR EACH ROW EXECUTE FUNCTION ff_reconciler_wake('label')");
($ret, $out, $err) = $node->psql('app', "INSERT INTO wake_misuse VALUES (1, 'x')", extra_params => [ '-v', 'VERBOSITY=sqlstate' ]);
like($err, qr/39P01/, 'and to watch a column that is not bigint (39P01)');
sql('app', 'DROP TABLE wake_misuse');

# --- a cancel between batches does not end the worker ----------------------------
is(sql('app', "SELECT pg_cancel_backend($pid)"), 't', 'pg_cancel_backend on the idle worker');
usleep(300_000);
is(worker_pid('app'), $pid, 'the worker is still the same process');

# --- an interval of 0 disables a reconciler ---------------------------------------
$node->append_conf('postgresql.conf', 'flowfabric.lease_expiry_interval_ms = 0');
$node->reload;
usleep(300_000);
my $runs_disabled = status('app', 'lease_expiry', 'runs');
my $held = sql('app', "SELECT execution_id FROM ff_create_execution('disabled')");
sql('app', "SELECT count(*) FROM ff_claim('disabled', 'w', 'w/1', lease_ttl_ms => 100)");
usleep(800_000);
is(sql('app', "SELECT ownership_state FROM ff_execution WHERE lane_id = 'disabled'"), 'leased',
	'lease_expiry_interval_ms = 0: an expired lease is left alone');
is(status('app', 'lease_expiry', 'runs'), $runs_disabled, 'and the reconciler does not run');
$node->append_conf('postgresql.conf', 'flowfabric.lease_expiry_interval_ms = 60000');
$node->reload;
ok( defined wait_until(3, sub { sql('app', "SELECT ownership_state FROM ff_execution WHERE lane_id = 'disabled'") eq 'lease_expired_reclaimable' }),
	'enabled again, it catches up at once');

# --- batches: a backlog bigger than a batch is drained in one run ---------------
$node->append_conf('postgresql.conf', 'flowfabric.reconciler_batch_size = 5');
$node->reload;
usleep(300_000);    # let the worker see the reload
my $runs_before = status('app', 'delayed_promotion', 'runs');
$due = sql('app', 'SELECT ff_server_time_ms() + 700');
sql('app', "SELECT count((ff_create_execution('bulk', delay_until => $due)).execution_id) FROM generate_series(1, 23)");
ok( defined wait_until(5, sub { sql('app', "SELECT count(*) FROM ff_execution WHERE lane_id = 'bulk' AND public_state = 'waiting'") eq '23' }),
	'23 delayed executions promoted with batch size 5');
is(status('app', 'delayed_promotion', 'last_rows'), '23', 'by one run of several batches');
is(status('app', 'delayed_promotion', 'runs'), $runs_before + 1, 'counted as one run');

# --- errors are caught, recorded and the worker keeps going ---------------------
$node->append_conf('postgresql.conf', "lock_timeout = '50ms'\nflowfabric.lease_expiry_interval_ms = 100");
$node->reload;
my $errors_before = status('app', 'lease_expiry', 'errors');
my $locker = $node->background_psql('app');
$locker->query_safe('BEGIN; LOCK TABLE ff_attempt IN ACCESS EXCLUSIVE MODE');
ok(defined wait_until(10, sub { status('app', 'lease_expiry', 'errors') > $errors_before }),
	'a failing reconciler run is counted as an error');
like(status('app', 'lease_expiry', 'last_error'), qr/^55P03: .*lock timeout/, 'its SQLSTATE and message are kept');
$locker->query_safe('ROLLBACK');
$locker->quit;
my $runs_after_error = status('app', 'lease_expiry', 'runs');
ok(defined wait_until(5, sub { status('app', 'lease_expiry', 'runs') > $runs_after_error + 2 }),
	'the reconciler keeps running after the error');
is(worker_pid('app'), $pid, 'in the same worker process');
ok($node->log_contains(qr/WARNING:  flowfabric reconciler: reconciler "lease_expiry" failed: .*lock timeout/),
	'the error is logged');
$node->append_conf('postgresql.conf', "lock_timeout = 0\nflowfabric.lease_expiry_interval_ms = 60000");
$node->reload;

# --- flowfabric.reconcilers = off stops the work -------------------------------
$node->append_conf('postgresql.conf', 'flowfabric.reconcilers = off');
$node->reload;
ok(defined wait_until(5, sub { worker_pid('app') eq '' }), 'reconcilers = off: the worker exits');
is(status('app', 'lease_expiry', 'worker_pid IS NULL'), 't', 'its status rows stay, without a pid');
my $off_due = sql('app', 'SELECT ff_server_time_ms() + 200');
my $parked = sql('app', "SELECT execution_id FROM ff_create_execution('parked', delay_until => $off_due)");
usleep(1_200_000);
is(sql('app', "SELECT public_state FROM ff_read_execution_info('$parked')"), 'delayed',
	'nothing is promoted while reconcilers are off');
$node->append_conf('postgresql.conf', 'flowfabric.reconcilers = on');
$node->reload;
ok(defined wait_until(5, sub { worker_pid('app') ne '' }), 'reconcilers = on: a worker starts again');
ok(defined wait_until(5, sub { sql('app', "SELECT public_state FROM ff_read_execution_info('$parked')") eq 'waiting' }),
	'and catches up with the overdue delay');

# --- DROP / CREATE EXTENSION ------------------------------------------------------
$pid = worker_pid('app');
sql('app', 'DROP EXTENSION flowfabric');
ok(defined wait_until(5, sub { worker_pid('app') eq '' }), 'DROP EXTENSION stops the database\'s worker');
sql('app', 'CREATE EXTENSION flowfabric');
ok(defined wait_until(5, sub { worker_pid('app') ne '' }), 'CREATE EXTENSION starts it again');
isnt(worker_pid('app'), $pid, 'as a new process');
sql('plain', 'CREATE EXTENSION flowfabric');
ok(defined wait_until(5, sub { worker_pid('plain') ne '' }),
	'a database that gets the extension gets a worker');

# --- commands that need the database to themselves --------------------------------
$ret = $node->psql('postgres', 'CREATE DATABASE app_copy TEMPLATE app');
is($ret, 0, 'CREATE DATABASE ... TEMPLATE works while the template has a worker');
ok(defined wait_until(5, sub { worker_pid('app_copy') ne '' && worker_pid('app') ne '' }),
	'both the template and the copy have a worker afterwards');
$ret = $node->psql('postgres', 'ALTER DATABASE app_copy RENAME TO app_renamed');
is($ret, 0, 'ALTER DATABASE ... RENAME works while the database has a worker');
ok(defined wait_until(5, sub { worker_pid('app_renamed') ne '' }), 'the renamed database gets its worker back');
$ret = $node->psql('postgres', 'DROP DATABASE app_renamed');
is($ret, 0, 'DROP DATABASE works while the database has a worker');
ok(defined wait_until(5, sub { sql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'flowfabric reconciler'") eq '2' }),
	'only the workers of the remaining databases run');

$node->stop;
ok(!$node->log_contains(qr/terminated by signal|PANIC/), 'no crashes in the server log');
done_testing();
