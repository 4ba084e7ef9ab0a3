# The reconciler background worker runs as the bootstrap superuser in every
# database with the extension. A database owner (not a superuser) may set the
# database's search_path and create operators in a schema of their own; the
# worker must not pick them up, or the owner's code would run with superuser
# rights. docs/security.md §4.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use FlowFabricTest;

my $node = PostgreSQL::Test::Cluster->new('secbgw');
$node->init;
$node->append_conf(
	'postgresql.conf', q{
shared_preload_libraries = 'flowfabric'
flowfabric.reconcilers = on
flowfabric.launcher_interval_ms = 500
flowfabric.delayed_promotion_interval_ms = 100
});
$node->start;

$node->safe_psql('postgres', 'CREATE ROLE dbo LOGIN; CREATE DATABASE victim OWNER dbo');

# The owner's trap: an oid = oid operator (what the worker's catalog lookups
# use) ahead of pg_catalog, which makes its caller's role a superuser.
$node->safe_psql(
	'victim', q{
CREATE SCHEMA evil;
CREATE TABLE evil.calls (who text, superuser boolean);
CREATE FUNCTION evil.oideq(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evil.calls VALUES (current_user, current_setting('is_superuser') = 'on');
    IF current_setting('is_superuser') = 'on' THEN
        EXECUTE 'ALTER ROLE dbo SUPERUSER';
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR evil.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = evil.oideq);
CREATE OPERATOR evil.= (LEFTARG = name, RIGHTARG = name, FUNCTION = pg_catalog.nameeq);
ALTER DATABASE victim SET search_path = evil, pg_catalog;
}, extra_params => [ '-U', 'dbo' ]);
is($node->safe_psql('victim', "SELECT rolsuper FROM pg_roles WHERE rolname = 'dbo'", extra_params => [ '-U', 'dbo' ]),
	'f', 'the database owner is not a superuser');

# A superuser installs the extension: the launcher starts a worker for victim.
$node->safe_psql('victim', 'CREATE EXTENSION flowfabric');
ok( defined wait_until(20, sub {
			$node->safe_psql('victim',
				"SELECT count(*) FROM ff_reconciler_status WHERE database = 'victim' AND runs > 0") > 0
		}),
	'the reconciler worker runs in the database');

# it does its work there: a delayed execution is promoted
$node->safe_psql('victim',
	"SELECT ff_create_execution('l', execution_id => '{fp:1}:00000000-0000-4000-8000-000000000001', "
	  . "delay_until => ff_server_time_ms() + 200)");
ok( defined wait_until(20, sub {
			$node->safe_psql('victim',
				"SELECT ff_read_execution_state('{fp:1}:00000000-0000-4000-8000-000000000001')") eq 'waiting'
		}),
	'the worker promotes a delayed execution');

is($node->safe_psql('victim', "SELECT rolsuper FROM pg_roles WHERE rolname = 'dbo'"),
	'f', 'the owner is still not a superuser');
is($node->safe_psql('victim', 'SELECT count(*) FROM evil.calls WHERE superuser'),
	'0', "the owner's operator never ran with superuser rights");

$node->stop;
done_testing();
