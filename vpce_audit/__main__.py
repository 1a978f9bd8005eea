from vpce_audit.cli import main

raise SystemExit(main())
