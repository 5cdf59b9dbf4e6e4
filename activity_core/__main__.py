from activity_core.cli import main

raise SystemExit(main())
