from rest_video.cli.main import main

raise SystemExit(main())
