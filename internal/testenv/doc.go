// Package testenv starts real, throwaway servers for tests, benchmarks and
// the demo program: a private mariadbd process (MariaDB) and an in-process
// etcd member or cluster (Etcd). It never touches a server it did not start,
// except a MySQL or MariaDB server named by MYSQL_TEST_DSN.
//
// # Tests
//
// A package's tests share one MariaDB and one single-member etcd, started on
// first use and stopped when the test binary ends:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		dsn := testenv.DB(t)                // a fresh, empty database
//		eps := testenv.EtcdEndpoints(t)     // or testenv.EtcdClient(t)
//		...
//	}
//
// Tests that restart, kill or reconfigure a server, or need an etcd cluster,
// start their own with StartMariaDB or StartEtcd and Close it when done.
//
// # Servers
//
// StartMariaDB copies a datadir template, built once per machine and MariaDB
// version under os.TempDir()/mysqletcd-testenv, and starts mariadbd (which
// must be installed: Debian's mariadb-server) with small buffers and relaxed
// durability; root has no password. The first start on a machine takes a
// second or two more for the template.
//
// StartEtcd runs etcd inside the calling process, so its members stop with
// it. Failure tests stop, kill and restart members (StopMember, KillMember,
// StartMember, StopAll, StartAll) and slow them down behind a StartProxy.
//
// # Cleanup
//
// On Linux a mariadbd gets SIGKILL when the process that started it dies, so
// a crashed or timed-out test run leaves no server running. Its files, and
// those of an etcd, are left in os.TempDir() in that case and are removed by
// the next run that starts a server of the same kind.
package testenv
